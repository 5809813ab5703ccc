"""flowloop.signals"""
