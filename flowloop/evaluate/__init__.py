"""flowloop.evaluate"""
