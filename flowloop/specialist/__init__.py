"""flowloop.specialist"""
