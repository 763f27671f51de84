import KeycardModel

extension ObjectDecoder {
    /// The `env` of a container that runs a command, for its program (`ProgramEnvironment`).
    /// Types were checked with the container's fields (`DecodedFieldType.env`). A value from a
    /// ConfigMap, a Secret, a resource or a field keycard does not know is left out, with a warning:
    /// the program does not get it.
    mutating func environment(_ value: YAMLValue?, pod: ObjectKey, container: String) throws(ScenarioError) -> [EnvironmentVariable] {
        guard let value else { return [] }
        var variables: [EnvironmentVariable] = []
        for item in try value.items("env") {
            let fields = try nonNullFields(item, "an env entry")
            guard let name = try fields["name"]?.string("env name") else { continue }
            guard let from = fields["valueFrom"] else {
                variables.append(EnvironmentVariable(name: name, value: try fields["value"]?.string("env value") ?? ""))
                continue
            }
            let sources = try nonNullFields(from, "valueFrom")
            if let fieldRef = sources["fieldRef"], let path = try nonNullFields(fieldRef, "fieldRef")["fieldPath"] {
                let written = try path.string("fieldRef.fieldPath")
                if ProgramEnvironment.fieldPaths.contains(written) || written.hasPrefix("metadata.labels['")
                    || written.hasPrefix("metadata.annotations['")
                {
                    variables.append(EnvironmentVariable(name: name, fieldPath: written))
                    continue
                }
            }
            let source = sources.keys.sorted().first ?? "valueFrom"
            guard runsPrograms else { continue }
            warnings.append(
                ScenarioWarning(
                    location: from.location,
                    message:
                        "pod \(pod): container \"\(container)\" env \(name) comes from \(source), which keycard does not read; its program runs without \(name)"
                ))
        }
        return variables
    }

}
