"""Where GraphQL is served: /graphql (authors, learners), /api/partner/graphql and /v1/graphql
(partners, the SkillsTrainer contract), and GraphiQL's assets."""

from __future__ import annotations

from flask import Blueprint, Flask

from ekatra.graphql import partner, schema
from ekatra.graphql.views import AuthorView, PartnerView

AUTHOR_PATH = "/graphql"
PARTNER_PATHS = ("/api/partner/graphql", "/v1/graphql")
PATHS = (AUTHOR_PATH, *PARTNER_PATHS)


def register_graphql(app: Flask) -> None:
    assets = Blueprint("graphiql", __name__, static_folder="static/graphiql",
                       static_url_path="/graphiql-assets")
    app.register_blueprint(assets)
    app.add_url_rule(AUTHOR_PATH, view_func=AuthorView.as_view("graphql", schema.schema))
    partner_view = PartnerView.as_view("partner_graphql", partner.schema)
    for path in PARTNER_PATHS:
        app.add_url_rule(path, view_func=partner_view)
