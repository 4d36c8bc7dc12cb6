"""ServiceNow, as textdesk meets it: a stand-in instance for tests and the sandbox.

``sandbox.FakeServiceNow`` serves the Table API, the Attachment API and OAuth over
real HTTP; ``encoded_query`` parses ``sysparm_query``; ``schema`` says which fields
are references, choices and journals; ``demo_data`` seeds the demo's people and
incidents.
"""
