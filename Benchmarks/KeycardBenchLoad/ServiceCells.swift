import Foundation
import KeycardScenario

/// The model's cost of probing through a Service against the same number of plain pod cells,
/// measured in the same run: REPLICAS pods of one Deployment behind one Service, every pod to
/// the Service (REPLICAS² cells, one per backend) against every pod to every pod (REPLICAS²
/// cells). A per-cell cost that grows with the backends shows as a ratio far above 1 (before
/// per-cell lookups stopped listing every backend: about 100 at 100 replicas).
enum ServiceCells {
    static func scenario(replicas: Int, toService: Bool) -> String {
        """
        apiVersion: keycard/v1
        kind: Scenario
        metadata: {name: bench-service-cells}
        spec:
          resources:
            - apiVersion: apps/v1
              kind: Deployment
              metadata: {name: web, namespace: default}
              spec:
                replicas: \(replicas)
                selector: {matchLabels: {app: web}}
                template:
                  metadata: {labels: {app: web}}
                  spec: {containers: [{name: c, image: i, ports: [{containerPort: 8080}]}]}
            - apiVersion: v1
              kind: Service
              metadata: {name: web, namespace: default}
              spec: {selector: {app: web}, ports: [{port: 80, targetPort: 8080}]}
          steps:
            - probe: {to: [\(toService ? "svc/default/web" : "default/deployment/web")], ports: [TCP/\(toService ? 80 : 8080)]}
        """
    }

    /// Loads both scenarios and builds their model reports; prints the best of 3 and the ratio.
    static func run(replicas: Int, best: (Int, () throws -> Void) throws -> Double) throws {
        var cells = (service: 0, pods: 0)
        func model(toService: Bool) throws -> Int {
            let timeline = try ScenarioLoader.parseTimeline(scenario(replicas: replicas, toService: toService), file: "bench.yaml")
            return ModelReport.build(timeline).steps.reduce(0) { $0 + ($1.results?.count ?? 0) }
        }
        let pods = try best(3) { cells.pods = try model(toService: false) }
        let service = try best(3) { cells.service = try model(toService: true) }
        print("service cells: \(replicas) replicas behind one Service")
        print("baseline  every pod to every pod: \(String(format: "%.2f", pods)) s (\(cells.pods) cells)")
        print("keycard   every pod to the Service: \(String(format: "%.2f", service)) s (\(cells.service) cells)")
        print("ratio     service / pods: \(String(format: "%.2f", service / pods))")
    }
}
