"""SLA: policies, calendars' rows and their loader, and the deadlines of complaints and tasks."""
