"""The compose lab (package data in ``lab/compose``) on this machine, offered to core as a ``Deployment``.

``compose_file`` reads what the file declares (no engine needed), ``engine`` checks and
calls the container engine, ``pd_stores`` asks PD which stores are Up and where a store
runs, ``deployment`` puts them together as ``LocalDeployment``.
"""
