import CNetfilter
import Glibc

/// The libnftnl functions of one object kind. Tables, chains, sets and rules share one API shape
/// (`nftnl_<kind>_alloc`, `_free`, `_set_str`, `_set_u32`, `_set_data`, `_get_u32`,
/// `_nlmsg_build_payload`), so one owner type (`NftnlObject`) serves all four through this table.
struct NftnlKind<Attribute: RawRepresentable<UInt32> & Sendable>: Sendable {
    /// `table`, `chain`, `set` or `rule`: names the allocator in errors.
    let name: String
    let alloc: @convention(c) () -> OpaquePointer?
    let free: @convention(c) (OpaquePointer?) -> Void
    let setString: @convention(c) (OpaquePointer?, UInt16, UnsafePointer<CChar>?) -> Int32
    let setU32: @convention(c) (OpaquePointer?, UInt16, UInt32) -> Void
    let setData: @convention(c) (OpaquePointer?, UInt16, UnsafeRawPointer?, UInt32) -> Int32
    let getU32: @convention(c) (OpaquePointer?, UInt16) -> UInt32
    /// The attribute holding the NFPROTO_* family, which a batch message header repeats.
    let family: Attribute
    /// nftnl_<kind>_nlmsg_build_payload: the object's attributes into a batch message.
    let payload: @convention(c) (UnsafeMutablePointer<nlmsghdr>?, OpaquePointer?) -> Void

    /// What a batch error names the object by: `"set "` + its name; nothing for a rule, whose
    /// subject already says which table and chain it is in.
    var subjectPrefix: String { name == "rule" ? "" : name + " " }
}

/// The attribute enum of a libnftnl object kind (`nftnl_rule_attr`, ...), which picks its functions.
protocol NftnlAttribute: RawRepresentable<UInt32>, Sendable {
    static var kind: NftnlKind<Self> { get }
}

/// Owns one libnftnl table, chain, set or rule (by its attribute enum) and frees it in `deinit`.
struct NftnlObject<Attribute: NftnlAttribute>: ~Copyable {
    let raw: OpaquePointer

    /// nftnl_<kind>_alloc; ENOMEM when it returns NULL.
    init() throws(KernelError) {
        guard let raw = Attribute.kind.alloc() else { throw KernelError("nftnl_\(Attribute.kind.name)_alloc", errno: ENOMEM) }
        self.raw = raw
    }

    deinit { Attribute.kind.free(raw) }

    func set(_ attribute: Attribute, string: String) { _ = Attribute.kind.setString(raw, UInt16(attribute.rawValue), string) }

    func set(_ attribute: Attribute, u32 value: UInt32) { Attribute.kind.setU32(raw, UInt16(attribute.rawValue), value) }

    /// Raw data (`length` bytes at `data`): copied by libnftnl.
    func set(_ attribute: Attribute, data: UnsafeRawPointer, length: UInt32) {
        _ = Attribute.kind.setData(raw, UInt16(attribute.rawValue), data, length)
    }

    /// The NFPROTO_* family set on the object.
    var family: UInt32 { Attribute.kind.getU32(raw, UInt16(Attribute.kind.family.rawValue)) }

    /// One message of `kind` with this object as its payload; borrowing keeps the handle alive
    /// while libnftnl serialises it.
    func append(to batch: NftBatch, _ kind: NftMessageKind, flags: Int32, subject: String) {
        batch.append(kind, family: family, flags: flags, subject: Attribute.kind.subjectPrefix + subject) {
            Attribute.kind.payload($0, raw)
        }
    }
}
