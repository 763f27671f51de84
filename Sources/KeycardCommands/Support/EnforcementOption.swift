import ArgumentParser
import KeycardModel
import KeycardScenario

extension Enforcement: ExpressibleByArgument {}

/// `--mesh sidecar|ambient`: manifests mode enrols the manifests' namespaces in the mesh.
extension DataPlane: ExpressibleByArgument {}
