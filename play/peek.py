"""Print the healthy shop as kubectl sees it (for building incidents)."""
from harness import Play, run


async def play(p: Play) -> None:
    p.kubectl("get", "deploy,svc,hpa,pdb,ingress,netpol,cm,ds,sts", "-A", "-o", "wide")
    p.kubectl("get", "nodes", "-o", "wide")
    p.kubectl("describe", "nodes")
    await p.call("list_tools_stub") if False else None

run(play, "peek")
