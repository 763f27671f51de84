import KeycardModel

/// Istio's `istio.io/dry-run` annotation as istiod admits and reads it.
///
/// Admission (`checkDryRunAnnotation`, istio/istio pkg/config/validation/validation.go): only an
/// AuthorizationPolicy may carry it, only with action ALLOW or DENY, and its value must parse with
/// Go's `strconv.ParseBool`. Enforcement (`isDryRun` in pilot/pkg/security/authz/builder, and the
/// ambient path in pilot/pkg/serviceregistry/ambient/authorization.go) reads it with the same
/// `strconv.ParseBool`, so `"True"`, `"t"` and `"1"` are dry-run too (spec mesh.md R21).
enum IstioDryRun {
    static let annotation = "istio.io/dry-run"

    /// Go's `strconv.ParseBool`: `1 t T TRUE true True` are true, `0 f F FALSE false False` false,
    /// anything else (`yes`, `""`, ` true`) nil.
    static func parseBool(_ text: String) -> Bool? {
        switch text {
        case "1", "t", "T", "TRUE", "true", "True": true
        case "0", "f", "F", "FALSE", "false", "False": false
        default: nil
        }
    }

    /// Where the annotation is written in `metadata` (its key and its value), for error locations;
    /// nil when absent.
    static func entry(in metadata: YAMLValue) -> (keyLocation: SourceLocation, value: YAMLValue)? {
        guard let annotations = try? metadata.entries("metadata").first(where: { $0.key == "annotations" })?.value,
            let entry = try? annotations.entries("metadata.annotations").first(where: { $0.key == annotation })
        else { return nil }
        return (entry.keyLocation, entry.value)
    }

    /// The dry-run flag of an AuthorizationPolicy whose metadata is `metadata`, refused as
    /// `checkDryRunAnnotation` refuses it: a value `strconv.ParseBool` does not read, or any value on
    /// an AUDIT or CUSTOM policy. `value` is the annotation's text (nil when absent).
    static func authorizationPolicy(
        _ value: String?, action: AuthorizationPolicy.Action, key: ObjectKey, metadata: YAMLValue
    ) throws(ScenarioError) -> Bool {
        guard let value else { return false }
        let written = entry(in: metadata)
        let at = written?.value.location ?? metadata.location
        switch action {
        case .allow, .deny:
            guard let flag = parseBool(value) else {
                throw ScenarioError(
                    at,
                    "\(key) has annotation \(annotation) with invalid value (\(value)): strconv.ParseBool: parsing \"\(value)\": invalid syntax (one of true, false, 1, 0, t, f, T, F, TRUE, FALSE, True, False)"
                )
            }
            return flag
        case .audit, .custom:
            throw ScenarioError(
                at, "the annotation \(annotation) currently only supports action ALLOW/DENY, found action \(action.rawValue) in \(key)")
        }
    }

    /// A PeerAuthentication may not carry the annotation at all (`checkDryRunAnnotation` with
    /// `allowed` false).
    static func refuseOnPeerAuthentication(_ annotations: [String: String], key: ObjectKey, metadata: YAMLValue) throws(ScenarioError) {
        guard annotations[annotation] != nil else { return }
        let at = entry(in: metadata)?.keyLocation ?? metadata.location
        throw ScenarioError(at, "\(key) has unsupported annotation \(annotation), please remove the annotation")
    }

    /// The annotations istiod's webhook refuses on every Istio config object after the dry-run
    /// check (`validateMetadata`, istio/istio pkg/config/validation/validation.go, constants in
    /// pkg/config/constants): `internal.istio.io/webhook-always-reject` ("rejecting"), then
    /// `internal.istio.io/parent-namespace` and `internal.istio.io/parents` (internal
    /// annotations that escalate privileges: "this may not be set by users"), whatever their
    /// value. Throws a `ScenarioError` at the first one's key.
    static func refuseInternalAnnotations(_ annotations: [String: String], metadata: YAMLValue) throws(ScenarioError) {
        let refused = [
            ("internal.istio.io/webhook-always-reject", "rejecting"),
            ("internal.istio.io/parent-namespace", "this may not be set by users"),
            ("internal.istio.io/parents", "this may not be set by users"),
        ]
        guard let found = refused.first(where: { annotations[$0.0] != nil }) else { return }
        let (name, reason) = found
        let written = try? metadata.entries("metadata").first(where: { $0.key == "annotations" })?.value.entries("metadata.annotations")
        let at = written?.first(where: { $0.key == name })?.keyLocation ?? metadata.location
        throw ScenarioError(at, "\"\(name)\" annotation found, \(reason)")
    }
}
