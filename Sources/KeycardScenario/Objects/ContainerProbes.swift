import KeycardModel

/// A container's probes and lifecycle hooks, checked as the API server validates them
/// (`validateContainers`, `validateInitContainers`, `validateProbe`, `validateLivenessProbe`,
/// `validateHandler`, `validateLifecycle`, in kubernetes pkg/apis/core/validation). The lab runs
/// no probe and no hook: these checks only refuse what a cluster refuses, at the field.
extension ObjectDecoder {
    static let probeFields = ["livenessProbe", "readinessProbe", "startupProbe"]

    /// `fields`: the container's non-null fields; `plainInit`: an init container that is not a
    /// sidecar (no `restartPolicy: Always`), which runs to completion and may carry neither probes
    /// nor hooks ("may not be set for init containers without restartPolicy=Always").
    func checkProbesAndHooks(_ fields: [String: YAMLValue], container: String, plainInit: Bool) throws(ScenarioError) {
        let what = "container \"\(container)\""
        if plainInit {
            for field in ["lifecycle"] + Self.probeFields {
                guard let value = fields[field] else { continue }
                throw value.error("\(what): \(field): Forbidden: may not be set for init containers without restartPolicy=Always")
            }
        }
        for field in Self.probeFields {
            guard let value = fields[field] else { continue }
            try checkProbe(value, "\(what): \(field)", liveOrStartup: field != "readinessProbe")
        }
        if let lifecycle = fields["lifecycle"] {
            let hooks = try nonNullFields(lifecycle, "\(what): lifecycle")
            for hook in ["postStart", "preStop"] {
                guard let value = hooks[hook] else { continue }
                try checkHandler(value, "\(what): lifecycle.\(hook)", kinds: ["exec", "httpGet", "tcpSocket", "sleep"])
            }
        }
    }

    /// One probe: exactly one handler; its counts non-negative int32s; `successThreshold` 1 for a
    /// liveness or startup probe (0 is defaulted to 1 first); `terminationGracePeriodSeconds`
    /// positive, and not on a readiness probe.
    private func checkProbe(_ value: YAMLValue, _ what: String, liveOrStartup: Bool) throws(ScenarioError) {
        let fields = try nonNullFields(value, what)
        try checkHandler(value, what, kinds: ["exec", "httpGet", "tcpSocket", "grpc"])
        for field in ["initialDelaySeconds", "timeoutSeconds", "periodSeconds", "successThreshold", "failureThreshold"] {
            guard let number = fields[field] else { continue }
            let count = try number.int("\(what).\(field)", in: Int(Int32.min)...Int(Int32.max))
            if count < 0 { throw number.error("\(what).\(field): Invalid value: \(count): must be greater than or equal to 0") }
            if field == "successThreshold", liveOrStartup, count > 1 {
                throw number.error("\(what).successThreshold: Invalid value: \(count): must be 1")
            }
        }
        if let grace = fields["terminationGracePeriodSeconds"] {
            guard liveOrStartup else {
                throw grace.error("\(what).terminationGracePeriodSeconds: Invalid value: must not be set for readinessProbes")
            }
            let seconds = try grace.int("\(what).terminationGracePeriodSeconds", in: Int(Int64.min)...Int(Int64.max))
            if seconds <= 0 {
                throw grace.error("\(what).terminationGracePeriodSeconds: Invalid value: \(seconds): must be greater than 0")
            }
        }
    }

    /// Exactly one of `kinds` is set ("must specify a handler type", "may not specify more than 1
    /// handler type"); an `httpGet` or `tcpSocket` port is a number from 1 to 65535 or a port name
    /// (IANA_SVC_NAME, `ValidatePortNumOrName`), a `grpc` port a number.
    private func checkHandler(_ value: YAMLValue, _ what: String, kinds: [String]) throws(ScenarioError) {
        let fields = try nonNullFields(value, what)
        let set = kinds.filter { fields[$0] != nil }
        guard let kind = set.first, let handler = fields[kind] else {
            throw value.error("\(what): Required value: must specify a handler type")
        }
        if set.count > 1, let second = fields[set[1]] {
            throw second.error("\(what).\(set[1]): Forbidden: may not specify more than 1 handler type")
        }
        let action = try nonNullFields(handler, "\(what).\(kind)")
        switch kind {
        case "httpGet", "tcpSocket":
            guard let port = action["port"] else { throw handler.error("\(what).\(kind).port: Required value") }
            if port.isPlainNumber {
                _ = try port.int("\(what).\(kind).port", in: 1...65535)
            } else {
                let name = try port.string("\(what).\(kind).port")
                if let problem = NameRules.portNameProblem(name) {
                    throw port.error("\(what).\(kind).port: Invalid value: \"\(name)\": \(problem)")
                }
            }
            if kind == "httpGet", let scheme = action["scheme"] {
                let text = try scheme.string("\(what).httpGet.scheme")
                guard ["", "HTTP", "HTTPS"].contains(text) else {
                    throw scheme.error("\(what).httpGet.scheme: Unsupported value: \"\(text)\": supported values: \"HTTP\", \"HTTPS\"")
                }
            }
        case "grpc":
            guard let port = action["port"] else { throw handler.error("\(what).grpc.port: Required value") }
            _ = try port.int("\(what).grpc.port", in: 1...65535)
        default: break
        }
    }
}
