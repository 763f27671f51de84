"""Reads a keycard flow log with the protobuf JSON parser (Debian's python3-protobuf) against
Hubble's observer API (hubble_flow_subset.proto): every line must parse as a GetFlowsResponse with
no unknown key or enum value. Prints one summary line per flow: verdict, direction, source,
destination, port (an ICMP echo's type: icmp-8) and the policies named. Usage: read_flows.py GENERATED_DIR FLOWS.jsonl"""
import sys

sys.path.insert(0, sys.argv[1])
from google.protobuf import json_format  # noqa: E402
from google.protobuf import struct_pb2  # noqa: E402,F401  (registers Struct for the Any in extensions)
import hubble_flow_subset_pb2 as hubble  # noqa: E402

with open(sys.argv[2]) as lines:
    for number, line in enumerate(lines, 1):
        response = hubble.GetFlowsResponse()
        try:
            json_format.Parse(line, response, ignore_unknown_fields=False)
        except json_format.ParseError as error:
            sys.exit(f"line {number}: {error}")
        flow = response.flow
        protocol = flow.l4.WhichOneof("protocol")
        # An ICMP echo has no port: its type stands in the port's column (icmp-8).
        port = (f"icmp-{flow.l4.ICMPv4.type}" if protocol == "ICMPv4"
                else getattr(flow.l4, protocol).destination_port if protocol else 0)
        policies = [
            f"{name}={p.namespace}/{p.name}({p.kind})"
            for name, group in (("egress_allowed_by", flow.egress_allowed_by), ("ingress_allowed_by", flow.ingress_allowed_by),
                                ("egress_denied_by", flow.egress_denied_by), ("ingress_denied_by", flow.ingress_denied_by))
            for p in group
        ]
        facts = struct_pb2.Struct()
        flow.extensions.Unpack(facts)
        print(
            hubble.Verdict.Name(flow.verdict),
            hubble.TrafficDirection.Name(flow.traffic_direction),
            f"{flow.source.namespace}/{flow.source.pod_name}",
            f"{flow.destination.namespace}/{flow.destination.pod_name}",
            port,
            hubble.DropReason.Name(flow.drop_reason_desc),
            f"step={int(facts['step'])}",
            " ".join(policies),
        )
