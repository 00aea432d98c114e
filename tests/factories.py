"""Builders for test data, through the public API where a user would go that way."""

from __future__ import annotations

from dataclasses import dataclass

PASSWORD = "correct horse battery"


@dataclass
class AuthorClient:
    """A test client bound to one author's tokens."""

    client: object
    email: str
    id: int
    access_token: str
    refresh_token: str

    @classmethod
    def signup(cls, client, email: str, name: str = "Author", password: str = PASSWORD):
        response = client.post("/api/auth/signup",
                               json={"name": name, "email": email, "password": password})
        assert response.status_code == 200, response.get_json()
        author_id = int(response.get_json()["id"])
        return cls.login(client, email, password, author_id)

    @classmethod
    def login(cls, client, email: str, password: str = PASSWORD, author_id: int = 0):
        response = client.post("/api/auth/login", json={"email": email, "password": password})
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        return cls(client, email, author_id, body["access_token"], body["refresh_token"])

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}

    def get(self, path: str, **kwargs):
        return self.client.get(path, headers=self.headers, **kwargs)

    def post(self, path: str, **kwargs):
        return self.client.post(path, headers=self.headers, **kwargs)

    def put(self, path: str, **kwargs):
        return self.client.put(path, headers=self.headers, **kwargs)

    def patch(self, path: str, **kwargs):
        return self.client.patch(path, headers=self.headers, **kwargs)

    def delete(self, path: str, **kwargs):
        return self.client.delete(path, headers=self.headers, **kwargs)


def contract_course(name: str = "Python") -> dict:
    """A course body shaped like the contract's example (readonly "day", both answer spellings)."""
    return {
        "name": name,
        "author": "Ekatra",
        "description": "description",
        "days": [
            {"day": "day num (readonly)", "text": "Introduction", "questions": None},
            {"day": "day num (readonly)", "text": "print hello world", "questions": [
                {"question": "What is print statement?", "type": "Q/A",
                 "correct-answer": "Python statement displays the variable or any character."},
                {"question": "Is print a function in Python 3?", "type": "boolean",
                 "correct_answer": "True"},
            ]},
        ],
    }


def create_course(author: AuthorClient, body: dict | None = None) -> int:
    """Create a course through the API (the contract's example by default); returns its id."""
    response = author.post("/api/course/", json=body or contract_course())
    assert response.status_code == 200, response.get_json()
    return response.get_json()["id"]
