import CaseDomain
import CommandHandling

/// The queries' side of the one decision point (`Authorization` in CommandHandling): every
/// query route asks it whether the caller may see a stream before it shows anything of it,
/// with the caller's rights as domain state gives them now (R1.9, R1.10). A stream the
/// caller may not see is answered like a missing one by the route.
struct ReadAccess: Sendable {
    let commands: CommandHandler

    /// The caller's rights now: a contact's from its organisation's current contact list
    /// (`nil` when it is not on it: it sees nothing); everyone else's from their kind.
    func rights(_ caller: Caller) throws -> Rights? {
        guard let principal = caller.principal else { return nil }
        do throws(CommandError) {
            return try commands.rights(of: principal)
        } catch {
            throw CommandRoutes.apiError(error)
        }
    }

    /// Whether the caller may see a stream of `scope`.
    func mayView(_ caller: Caller, _ scope: StreamScope) throws -> Bool {
        guard let rights = try rights(caller) else { return false }
        return Authorization.mayView(rights, scope)
    }
}
