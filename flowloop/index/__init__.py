"""flowloop.index"""
