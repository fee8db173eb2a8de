"""Reusable NiceGUI pieces shared by the pages."""
