"""The domain, in layers; each imports only the ones below it (the import-linter `layers` contract in pyproject.toml).

assess | mitigate      the tool functions (read-only tools | planned mutations); decide/ and incident/ above them
playbook               the judgement: decision rules and trees, rollback and recovery checks, handoff analysis
engine                 plans as data, pending commands, executor, journal, Deps
kube | k8s             the seam (client library, helm binary) | pure facts about API objects
core                   errors, shared models, command rendering, masking

Layer: tools.
"""
