"""The commands that tie every package together (`closeloop serve`, `closeloop lifecycle`): the top layer."""
