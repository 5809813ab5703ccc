"""flowloop.integrations"""
