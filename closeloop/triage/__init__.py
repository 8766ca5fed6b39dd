"""Triage learned from the installation's own history: suggestions at registration, safety hazards
escalated at once, similar complaints and text clusters (docs/architecture.md, "Triage")."""
