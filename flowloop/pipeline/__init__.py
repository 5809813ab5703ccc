"""flowloop.pipeline"""
