"""Writes of the insight app: the monthly reports' workflow (`reports`) and their distribution list
(`recipients`)."""
