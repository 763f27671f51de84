import ArgumentParser
import Foundation
import KeycardModel
import KeycardScenario
import KeycardValues

/// Loads scenarios for a command: errors go to stderr as `file:line:col: message` and end the
/// command with exit code 2; warnings go to stderr and the command goes on.
enum ScenarioInput {
    /// The timelines of `paths` with the manifests options of the command line.
    static func loadAll(_ paths: [String], _ manifests: ManifestOptions, cellLimit: CellLimit = .refuse) throws -> [Timeline] {
        if let lab = manifests.lab, let problem = LabName.problem(lab) {
            Console.error("--lab \"\(lab)\" \(problem)")
            throw Exit.invalid
        }
        // The manifests-mode options name nothing in a scenario (its lab is its metadata.name, its
        // objects' namespaces and mesh are written in it): given only scenarios, they are refused
        // rather than ignored (`up FILE --lab X` had brought up another name than X).
        let given = [manifests.lab.map { _ in "--lab" }, manifests.namespace.map { _ in "-n" }, manifests.mesh.map { _ in "--mesh" }]
            .compactMap { $0 }
        // A path that is not there is no scenario: loading it says so.
        let exist = paths.allSatisfy { $0 == ScenarioLoader.standardInputPath || FileManager.default.fileExists(atPath: $0) }
        if !given.isEmpty, !paths.isEmpty, exist, !paths.contains(where: ManifestLoader.isManifests) {
            Console.error(
                "\(given.joined(separator: ", ")): for plain manifests only; \(paths.joined(separator: ", ")) \(paths.count == 1 ? "is a scenario" : "are scenarios") (a scenario's lab is its metadata.name, its namespaces and mesh are written in it)"
            )
            throw Exit.invalid
        }
        return try loadAll(paths, namespace: manifests.namespace, mesh: manifests.mesh, lab: manifests.lab, cellLimit: cellLimit)
    }

    /// The timelines of `paths`: each scenario file its own, and all the plain manifests (files
    /// and folders, `ManifestLoader`) together one, in the place of the first of them, with
    /// `namespace` for their objects that name none and `lab` as their lab's name. `cellLimit`: `.warn` for a command that judges
    /// no probe cell, so a probe step over `ResolvedProbe.maximumCells` does not stop it.
    static func loadAll(
        _ paths: [String], namespace: String?, mesh: DataPlane? = nil, lab: String? = nil, cellLimit: CellLimit = .refuse
    ) throws -> [Timeline] {
        let manifests = ManifestLoader.manifestPaths(paths)
        var timelines: [Timeline] = []
        var manifestsDone = false
        for path in paths {
            guard manifests.contains(path) else {
                timelines.append(try load(path, cellLimit: cellLimit))
                continue
            }
            if manifestsDone { continue }
            manifestsDone = true
            do {
                let timeline = try ManifestLoader.timeline(manifests, namespace: namespace, name: lab, mesh: mesh, cellLimit: cellLimit)
                for warning in timeline.warnings { Console.error(warning.description) }
                timelines.append(timeline)
            } catch {
                throw refuse(error)
            }
        }
        return timelines
    }

    /// The one timeline of `paths` for a command that takes exactly one scenario (or one set of
    /// manifests, loaded together); any other count is refused on stderr with exit code 2.
    static func loadOne(_ paths: [String], _ manifests: ManifestOptions, for verb: String, cellLimit: CellLimit = .refuse) throws
        -> Timeline
    {
        let timelines = try loadAll(paths, manifests, cellLimit: cellLimit)
        guard timelines.count == 1, let timeline = timelines.first else {
            Console.error("\(verb) takes one scenario (or one set of manifests), found \(timelines.count)")
            throw Exit.invalid
        }
        return timeline
    }

    /// The step `--after-step` names (`afterStep`), by default the last; 0 is the state after the
    /// resources. Outside 0...steps it is refused on stderr with the file's location and exit code 2.
    static func step(_ afterStep: Int?, of timeline: Timeline) throws -> Int {
        try step(afterStep, of: timeline, asked: "--after-step \(afterStep ?? 0)")
    }

    /// `body` with the paths, where `-` stands for standard input, as kubectl's `-f -`: its bytes
    /// are read once, and the path `STDIN` (`ScenarioLoader.standardInputPath`, the name kubectl's
    /// messages give it) reads them inside `body`. `-` given twice is refused on stderr with exit
    /// code 2 ("standard input cannot be used for multiple arguments", cli-runtime's builder).
    static func withStandardInput<Result>(_ paths: [String], _ body: ([String]) throws -> Result) throws -> Result {
        guard paths.contains("-") else { return try body(paths) }
        guard paths.count(where: { $0 == "-" }) == 1 else {
            Console.error("standard input cannot be used for multiple arguments (- is given more than once)")
            throw Exit.invalid
        }
        let data: Data
        do {
            data = try StandardInput.readAll()
        } catch {
            Console.error(error.description)
            throw Exit.invalid
        }
        return try ScenarioLoader.$standardInput.withValue(data) {
            try body(paths.map { $0 == "-" ? ScenarioLoader.standardInputPath : $0 })
        }
    }

    static func load(_ path: String, cellLimit: CellLimit = .refuse) throws -> Timeline {
        do {
            let timeline = try ScenarioLoader.timeline(path, cellLimit: cellLimit)
            for warning in timeline.warnings { Console.error(warning.description) }
            for warning in HostPrograms.warnings(timeline) { Console.error(warning) }
            return timeline
        } catch {
            throw refuse(error)
        }
    }
}

/// How plain manifests are read (`-n`, `--mesh`, `--lab`), for every command that takes scenario files or
/// manifests; scenario files ignore both.
struct ManifestOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: "Namespace of manifests' objects that name none (as kubectl apply -n).") var namespace: String?
    @Option(
        help:
            "Manifests mode: enrol the manifests' namespaces in the mesh, as Istio's tasks label them (sidecar: istio-injection=enabled; ambient: istio.io/dataplane-mode=ambient)."
    )
    var mesh: DataPlane?
    @Option(help: "Manifests mode: the lab's name (default: the first file's or folder's name, as `manifests` for ./manifests).")
    var lab: String?
}

/// The inputs of a command that models every file it is given (`keycard model`, `keycard lint`):
/// scenario files each their own cluster, plain manifests together one (`ScenarioInput.loadAll`).
struct ScenarioFiles: ParsableArguments {
    @Argument(help: "Scenario files; plain Kubernetes manifests (files or folders) together as one cluster; - reads standard input.")
    var files: [String]
    @OptionGroup var manifests: ManifestOptions

    /// The timelines of the files; an invalid one is printed and ends the command with exit code 2.
    /// `cellLimit`: `.warn` for a command that judges no probe cell (`ScenarioInput.loadAll`).
    func load(cellLimit: CellLimit = .refuse) throws -> [Timeline] {
        try load(cellLimit: cellLimit) { $0 }
    }

    /// `body` with the timelines, while standard input still reads as the file `STDIN`: what
    /// reads a file again for its places (lint's `SourceLocator`) must find the same bytes, not a
    /// file of that name on disk.
    func load<Result>(cellLimit: CellLimit = .refuse, _ body: ([Timeline]) throws -> Result) throws -> Result {
        try ScenarioInput.withStandardInput(files) { try body(ScenarioInput.loadAll($0, manifests, cellLimit: cellLimit)) }
    }
}
