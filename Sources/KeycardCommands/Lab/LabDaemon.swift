import KeycardLab

/// Placeholder replaced below.
enum LabDaemon {
    static func spawnServer(lab: String) throws {}
}
