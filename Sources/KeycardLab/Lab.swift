import Foundation
import KeycardKernel
import KeycardTopology
import Logging

/// Lab lifecycle events, at debug level (`keycard -v`).
let labLogger = Logger(label: "keycard.lab")

/// Lab lifecycle: bring a planned lab up, list labs, tear them down (even without a state file).
public enum Lab {
    /// Threads used for namespace creation and per-namespace configuration.
    public static let defaultThreads = 2

    /// Plans `spec` and brings it up (see `up(plan:)`).
    public static func up(
        spec: LabSpec, threads: Int = defaultThreads, beforePrograms: (LabInstance) throws -> Void = { _ in }
    ) throws(LabError) -> LabInstance {
        let plan: LabPlan
        do {
            plan = try TopologyPlanner.plan(spec)
        } catch {
            throw .invalidSpec(error)
        }
        return try up(plan: plan, threads: threads, beforePrograms: beforePrograms)
    }

    /// Creates every namespace, link, address, route and sysctl of `plan`, then starts the pods'
    /// commands: the cluster DNS server's first (recorded in the state file), then
    /// `beforePrograms` runs (the path to it and its records: `LabStartup`), then every other
    /// program, so none starts before cluster DNS answers, as a cluster's CoreDNS is up before
    /// the application pods that use it. Refuses a lab name in use. The state file is written
    /// before the first namespace exists; on any failure (`beforePrograms`' too, as `.startUp`)
    /// the half-built lab is torn down before the error is thrown.
    public static func up(
        plan: LabPlan, threads: Int = defaultThreads, beforePrograms: (LabInstance) throws -> Void = { _ in }
    ) throws(LabError) -> LabInstance {
        let lab = plan.labName
        try claim(lab)
        var state = LabState(labName: lab, phase: .creating, ownerPID: ProcessTable.currentPID, plan: plan, processes: [])
        state.ownerStartTime = ProcessTable.startTime(of: ProcessTable.currentPID)
        var bringUp = BringUp(plan: plan, threads: threads)
        do {
            try state.write()
            try bringUp.run()
            let clock = ContinuousClock()
            let start = clock.now
            try ClusterDNSServer.prepare(plan)
            let server = plan.dns?.serverPod
            state.processes = try startCommands(plan) { $0.key == server }
            try state.write()
            try run(beforePrograms, LabInstance(plan: plan, processes: state.processes))
            // A refresh that restarted the DNS server recorded its new process there.
            state.processes = try LabState.read(lab)?.processes ?? state.processes
            state.processes += try startCommands(plan) { $0.key != server }
            state.phase = .ready
            try state.write()
            var instance = LabInstance(plan: plan, processes: state.processes)
            instance.timings = bringUp.timings + [LabTiming(stage: "start commands, save state", seconds: (clock.now - start).seconds)]
            for timing in instance.timings {
                labLogger.debug("lab \(lab) up: \(timing.stage)", metadata: ["ms": "\(Int(timing.seconds * 1000))"])
            }
            return instance
        } catch {
            _ = try? down(name: lab)
            throw error
        }
    }

    /// Runs `stage` on `lab`, its error a `LabError` (`.startUp` unless it is one).
    private static func run(_ stage: (LabInstance) throws -> Void, _ lab: LabInstance) throws(LabError) {
        do {
            try stage(lab)
        } catch let error as LabError {
            throw error
        } catch {
            throw .startUp(lab: lab.name, stage: "cluster DNS and Services before the programs", reason: "\(error)")
        }
    }

    /// Takes the name: /run/keycard/<lab> is created without intermediate retries, so two
    /// concurrent `up`s of one name cannot both succeed.
    static func claim(_ lab: String) throws(LabError) {
        let prefix = TopologyPlanner.namespacePrefix(lab)
        if let owner = (try? LabState.read(lab))?.liveOwner {
            throw .nameInUse(lab: lab, evidence: "keycard process \(owner) is running it")
        }
        if let leftover = NetworkNamespace.list().first(where: { $0.hasPrefix(prefix) }) {
            throw .nameInUse(lab: lab, evidence: "namespace \(leftover) exists")
        }
        let directory = LabPaths.directory(lab)
        do {
            try FileManager.default.createDirectory(atPath: LabPaths.root, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
        } catch {
            if FileManager.default.fileExists(atPath: directory) {
                throw .nameInUse(lab: lab, evidence: "\(directory) exists")
            }
            throw .state(lab: lab, path: directory, reason: "cannot create: \(error)")
        }
    }

    /// Starts the `command:` of each pod of `plan` that `including` takes, in plan order.
    static func startCommands(_ plan: LabPlan, including: (PlannedPod) -> Bool = { _ in true }) throws(LabError) -> [LabProcess] {
        var processes: [LabProcess] = []
        for pod in plan.servingPods where including(pod) {
            guard let argv = pod.command, !argv.isEmpty else { continue }
            let log = LabPaths.log(plan.labName, namespace: pod.namespace, pod: pod.name)
            // With cluster DNS, programs resolve as the kubelet says (`PodResolver`): the file it
            // writes from cluster DNS, the node's file (dnsPolicy Default; ClusterFirst on the host
            // network) or `dnsConfig` alone, each with `dnsConfig` appended.
            var mounts: [BindMount] = []
            if ClusterDNSServer.readsResolvConf(pod, in: plan) {
                mounts.append(
                    BindMount(
                        source: ClusterDNSServer.resolvConfFile(plan.labName, namespace: pod.namespace, pod: pod.name),
                        target: "/etc/resolv.conf"))
            }
            // The kubelet's hosts file: the pod's own name resolves to its address.
            if let hosts = pod.context.hostsFile {
                let file = LabPaths.hostsFile(plan.labName, namespace: pod.namespace, pod: pod.name)
                let nodeHosts = (try? String(contentsOfFile: "/etc/hosts", encoding: .utf8)) ?? ""
                try LabPaths.write(hosts.text(nodeHosts: nodeHosts), to: file, lab: plan.labName)
                mounts.append(BindMount(source: file, target: "/etc/hosts"))
            }
            do {
                let pid = try NamespacedProcess.spawn(
                    argv, inNamespace: pod.netns, logPath: log, bindMounts: mounts, environment: pod.context.environment,
                    hostname: pod.context.hostname)
                processes.append(
                    LabProcess(
                        pod: pod.key, netns: pod.netns, pid: pid, startTime: ProcessTable.startTime(of: pid), argv: argv, logPath: log))
            } catch {
                // Started ones are found again by tear-down through their namespace.
                throw .kernel(lab: plan.labName, stage: "start command of \(pod.key)", error)
            }
        }
        return processes
    }
}
