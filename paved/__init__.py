"""paved: a services catalog turned into a hardened microservices platform on AWS, with Pulumi.

Pure Python: importing it creates no resources.
"""
