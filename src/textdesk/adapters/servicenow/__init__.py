"""ServiceNow, as textdesk meets it: the record store on an instance, and a stand-in.

The store: ``record_store.ServiceNowRecords`` (incidents, a remote
``ports.RecordStore``) on ``client.ServiceNowClient`` (Table and Attachment APIs,
basic auth or OAuth, retries and a breaker whose rules are in ``resilience``);
``users.UserIndex`` finds texters among ``sys_user`` by mobile number; ``links``
points a card at the incident on the instance.

The stand-in: ``sandbox.FakeServiceNow`` serves the Table API, the Attachment API
and OAuth over real HTTP; ``encoded_query`` parses ``sysparm_query``; ``schema``
says which fields are references, choices and journals; ``records`` holds its rows;
``demo_data`` seeds the demo's people and incidents.
"""
