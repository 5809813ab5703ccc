"""flowloop.train"""
