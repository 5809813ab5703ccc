"""HTTP surface: FastAPI routers, problem+json errors, pagination, authentication."""
