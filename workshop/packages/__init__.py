"""Signed update packages: build, verify, inspect; delta images; signed baselines.

May import workshop.trust and workshop.foundation only.
"""
