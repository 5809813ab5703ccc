"""flowloop.pilr"""
