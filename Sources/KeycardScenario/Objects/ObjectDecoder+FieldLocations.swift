extension ObjectDecoder {
    /// The path under which a Service's `spec.clusterIP` location is kept (`LoadedObject.fieldLocations`).
    static let clusterIPField = "spec.clusterIP"

    /// `loaded` with the locations of its Service's `spec.clusterIP` (whose range and ownership are
    /// checked when applied, against the lab's service CIDR and the other Services) recorded. The
    /// API server reports those errors at `spec.clusterIPs`, whose first entry must equal
    /// `spec.clusterIP` (checked when decoding); keycard points at `spec.clusterIP`, which is
    /// always written when `clusterIPs` is.
    static func locatingFields(_ loaded: LoadedObject, _ value: YAMLValue) -> LoadedObject {
        var loaded = loaded
        // Decoding already succeeded, so these reads cannot fail; a failure just leaves no location.
        let spec = (try? value.entries("Service"))?.first { $0.key == "spec" }?.value
        if let clusterIP = (try? spec?.entries("Service spec"))?.first(where: { $0.key == "clusterIP" })?.value {
            loaded.fieldLocations[clusterIPField] = clusterIP.location
        }
        return loaded
    }
}
