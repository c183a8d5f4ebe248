"""The HTTP service: app factory, thin routes, problem documents, OpenAPI, settings."""
