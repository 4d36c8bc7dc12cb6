"""The topic schema a designer writes, its settings, and checks across a topic set. Pure."""
