"""The MCP surface: prompts, tools, resources and completions over the service API."""
