"""Known-answer vectors from outside tlsdoc (RFCs, IETF mailing-list vectors).

Each module says where its values come from and how they were checked.
"""
