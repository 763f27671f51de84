import KeycardModel

/// The types of well-known PodSpec fields keycard does not otherwise read
/// (https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/pod-v1/#PodSpec).
///
/// As for containers (`ContainerFieldType`): the API server's decoder refuses a value of the wrong
/// JSON type before any validation ("json: cannot unmarshal string into Go struct field
/// PodSpec.spec.terminationGracePeriodSeconds of type int64"), so such a manifest must not pass
/// `keycard check`. The rest of the schema (affinity, tolerations, security contexts) is left alone.
enum PodSpecFieldType {
    case string
    case bool
    /// An integer of the field's Go type (int64 or int32).
    case integer(ClosedRange<Int>)
    /// A map of resource names to Quantities (`overhead`).
    case quantities
    /// `volumes`: a list of mappings, each with a string `name`; an `emptyDir`'s `sizeLimit` a Quantity.
    case volumes

    static let int64 = Int(Int64.min)...Int(Int64.max)
    static let int32 = Int(Int32.min)...Int(Int32.max)

    /// The checked PodSpec fields and their Go types (core/v1 PodSpec).
    static let table: [(field: String, type: PodSpecFieldType)] = [
        ("terminationGracePeriodSeconds", .integer(int64)),
        ("activeDeadlineSeconds", .integer(int64)),
        ("automountServiceAccountToken", .bool),
        ("hostPID", .bool),
        ("hostIPC", .bool),
        ("shareProcessNamespace", .bool),
        ("hostUsers", .bool),
        ("schedulerName", .string),
        ("priorityClassName", .string),
        ("priority", .integer(int32)),
        ("runtimeClassName", .string),
        ("preemptionPolicy", .string),
        ("overhead", .quantities),
        ("volumes", .volumes),
    ]
}

extension ObjectDecoder {
    /// Refuses a well-known PodSpec field (`PodSpecFieldType.table`) whose value the API server
    /// cannot decode, at the value. `spec`: the pod spec's non-null fields.
    func checkPodSpecFieldTypes(_ spec: [String: YAMLValue]) throws(ScenarioError) {
        for (field, type) in PodSpecFieldType.table {
            guard let value = spec[field] else { continue }
            let what = "spec.\(field)"
            switch type {
            case .string: _ = try value.string(what)
            case .bool: _ = try value.bool(what)
            case .integer(let range): _ = try value.int(what, in: range)
            case .quantities:
                for (name, _, quantity) in try value.entries(what) where !quantity.isNull { try checkQuantity(quantity, "\(what).\(name)") }
            case .volumes:
                for (index, volume) in try value.items(what).enumerated() where !volume.isNull {
                    let fields = try nonNullFields(volume, "\(what)[\(index)]")
                    if let name = fields["name"] { _ = try name.string("\(what)[\(index)].name") }
                    guard let emptyDir = fields["emptyDir"] else { continue }
                    let emptyFields = try nonNullFields(emptyDir, "\(what)[\(index)].emptyDir")
                    if let medium = emptyFields["medium"] { _ = try medium.string("\(what)[\(index)].emptyDir.medium") }
                    if let limit = emptyFields["sizeLimit"] { try checkQuantity(limit, "\(what)[\(index)].emptyDir.sizeLimit") }
                }
            }
        }
    }
}
