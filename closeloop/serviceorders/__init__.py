"""Service orders (售服单): repair, return, exchange, installation, on-site inspection, technical
support and consultation — numbered, clocked, followed up and counted like complaints."""
