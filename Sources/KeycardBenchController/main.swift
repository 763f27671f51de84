// keycard-bench-controller: policy change latency and connection rate under many policies (root, release).
print("keycard-bench-controller: not implemented yet")
