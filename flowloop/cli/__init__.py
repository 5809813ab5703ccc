"""flowloop.cli"""
