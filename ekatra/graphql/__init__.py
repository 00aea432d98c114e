"""The read-only GraphQL API: /graphql for authors and learners, and the SkillsTrainer/Hasura-style
queries of partners at /api/partner/graphql and /v1/graphql. Nothing here writes."""
