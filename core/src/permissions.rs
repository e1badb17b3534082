//! Roles and permissions as data: a table of role × action × relationship.
//!
//! Every HTTP route and every WebSocket frame asks [`check`]; no route
//! carries a check of its own. A request is allowed when any role the actor
//! holds is granted the action through any relationship the actor has with
//! the subject.

use serde::{Deserialize, Serialize};
use std::fmt;

/// What a person is to the platform or to one organisation.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Operator: organisations and licences, key recovery; never content.
    PlatformAdmin,
    /// Senior worker: a practitioner who also approves workers.
    Manager,
    /// Social worker of an organisation.
    Practitioner,
    /// Approved or prospective adopter or foster carer.
    Adopter,
    /// Member of an adoptive family invited into a contact link.
    AdoptiveFamilyMember,
    /// Member of a birth family invited into a contact link.
    BirthFamilyMember,
    /// Verified member of the support network.
    CommunityMember,
    /// Moderator of the support network, on the staff of a community
    /// partner.
    Moderator,
}

impl Role {
    /// All roles, in a fixed order.
    pub const ALL: [Role; 8] = [
        Role::PlatformAdmin,
        Role::Manager,
        Role::Practitioner,
        Role::Adopter,
        Role::AdoptiveFamilyMember,
        Role::BirthFamilyMember,
        Role::CommunityMember,
        Role::Moderator,
    ];

    /// Returns the stable name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::PlatformAdmin => "platform_admin",
            Role::Manager => "manager",
            Role::Practitioner => "practitioner",
            Role::Adopter => "adopter",
            Role::AdoptiveFamilyMember => "adoptive_family_member",
            Role::BirthFamilyMember => "birth_family_member",
            Role::CommunityMember => "community_member",
            Role::Moderator => "moderator",
        }
    }

    /// Parses a stored role name.
    pub fn parse(name: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.as_str() == name)
    }

    /// Returns whether this role belongs to an organisation's staff, who
    /// must use a second factor.
    pub fn is_worker(self) -> bool {
        matches!(
            self,
            Role::Manager | Role::Practitioner | Role::PlatformAdmin | Role::Moderator
        )
    }
}

/// Returns whether any of `roles` belongs to an organisation's staff, who
/// see every file of a conversation they are in and may message in a
/// contact link whatever its agreement says about live messages.
pub fn is_staff(roles: &[Role]) -> bool {
    roles.iter().any(|role| role.is_worker())
}

/// Something a person asks to do.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Action {
    /// See that a conversation exists, with its members and unread count.
    ListConversation,
    /// Read a conversation's messages.
    ReadConversation,
    /// Send a message into a conversation.
    SendMessage,
    /// Record that messages were read.
    MarkRead,
    /// Add or remove members of a conversation.
    ManageMembers,
    /// Choose which kinds of file a conversation accepts.
    SetAcceptedMedia,
    /// See and revoke one's own sessions.
    ManageOwnSessions,
    /// Invite a worker into one's organisation and list its workers.
    InviteWorker,
    /// Confirm a pending worker of one's organisation.
    ApproveWorker,
    /// Confirm a pending family member one invited.
    ConfirmFamilyMember,
    /// Disable an account, ending its sessions.
    DisableAccount,
    /// Read the organisation's audit trail.
    ReadAuditTrail,
    /// Read a contact link's agreement (its protected terms need
    /// [`Action::SetAgreement`] too).
    ReadAgreement,
    /// Set a contact link's agreement, suspend it or end it.
    SetAgreement,
    /// Write and submit letters in a contact link.
    WriteLetter,
    /// Review submitted letters, see their findings and the link's timeline.
    ReviewLetter,
    /// Write and read a contact link's case notes, which families never see.
    KeepCaseNotes,
    /// Start a live call in a conversation, and host it.
    StartCall,
    /// Join a conversation's live call (family members wait in its lobby).
    JoinCall,
    /// Admit, pause, mute or remove a participant, or end the call.
    SuperviseCall,
    /// Arrange a live call ahead of time, inviting the members, or cancel it.
    ScheduleCall,
    /// Read the record of a conversation's calls: who joined, was admitted,
    /// paused, muted or removed, left, and when.
    ReadCallRecord,
    /// Create organisations and set their licences and retention periods.
    ManageOrganisations,
    /// Create a child or family case in one's organisation.
    CreateCase,
    /// Read a child or family profile.
    ReadCase,
    /// Change a profile's content.
    EditCase,
    /// Choose who a profile is published to, and whether it is anonymous.
    PublishCase,
    /// Search published profiles and see match suggestions.
    SearchProfiles,
    /// Read how often the organisation's profiles were viewed.
    ReadCaseStatistics,
    /// Read national sufficiency counts.
    ReadSufficiency,
    /// Express a family's interest in a child, opening a discussion.
    ExpressInterest,
    /// Move an expression of interest to its next state, or end it.
    ChangeInterestState,
    /// Hand a case, with its discussions, to another organisation.
    TransferCase,
    /// Ask for a case to be erased (marked, then anonymised 14 days
    /// later), see the organisation's marked cases, and keep one.
    EraseCase,
    /// Put a case on legal hold, which keeps it from every retention rule
    /// and erasure, or lift the hold.
    HoldCase,
    /// Ask about one's own data: a copy, correction, erasure, restriction,
    /// or no more marketing email; and follow one's requests.
    AskRights,
    /// Record a rights request for someone, and read the requests the
    /// organisation handles.
    RecordRightsRequest,
    /// Move a rights request on, complete it, or refuse it with a legal
    /// reason.
    DecideRightsRequest,
    /// Read the community's groups, topics and members' profiles.
    ReadCommunity,
    /// Open a topic or reply in a group.
    PostInCommunity,
    /// Report a post to the moderators.
    ReportPost,
    /// Hide, remove or restore posts, warn and suspend members, and
    /// decide requests to join approval groups.
    ModerateCommunity,
    /// Create community groups.
    ManageGroups,
    /// Verify or turn down applications to the community.
    VerifyMembers,
    /// Pass a safeguarding concern about a community post to an
    /// organisation: the one way community data reaches one.
    RaiseSafeguardingConcern,
    /// Read the safeguarding concerns passed to the organisation.
    ReadSafeguardingConcerns,
    /// Ask for, list and cancel recoveries of accounts whose owners lost
    /// their password.
    RequestKeyRecovery,
    /// Approve a recovery another admin requested.
    ApproveKeyRecovery,
}

/// How the actor relates to the subject of the request.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Relationship {
    /// The subject is the actor.
    Themselves,
    /// The actor is a current member of the conversation.
    ConversationMember,
    /// The actor supervises the conversation for its organisation.
    ConversationSupervisor,
    /// The actor is staff of the organisation that owns the subject.
    OwningOrganisationStaff,
    /// The actor invited the subject.
    Inviter,
    /// The actor is a platform operator; applies to platform-wide subjects.
    Platform,
    /// The actor started the live call and hosts it.
    CallHost,
    /// The case is published to all licensed organisations or by name to
    /// the actor's organisation.
    PublishedToActor,
    /// The actor is the family a family case describes.
    CaseFamily,
    /// The actor takes part in a discussion about the case.
    DiscussionParty,
    /// The actor is a platform operator, and the subject's organisation has
    /// no worker holding its key yet, so its first manager comes through
    /// the operator.
    FoundingOperator,
    /// The actor may read the community group: it is open, or the actor
    /// is in it.
    GroupReader,
    /// The subject belongs to the community, which the actor moderates.
    CommunityModerator,
    /// The applicant named the actor's community partner, or named none.
    PartnerModerator,
    /// The subject is an active member of the community the actor is in.
    FellowMember,
}

use Action::*;
use Relationship::*;
use Role::*;

/// The grant table. A row allows one role one action through one
/// relationship; anything not listed is denied.
pub const GRANTS: &[(Role, Action, Relationship)] = &[
    // Everyone signed in manages their own sessions.
    (PlatformAdmin, ManageOwnSessions, Themselves),
    (Manager, ManageOwnSessions, Themselves),
    (Practitioner, ManageOwnSessions, Themselves),
    (Adopter, ManageOwnSessions, Themselves),
    (AdoptiveFamilyMember, ManageOwnSessions, Themselves),
    (BirthFamilyMember, ManageOwnSessions, Themselves),
    (CommunityMember, ManageOwnSessions, Themselves),
    // Conversations: members read, send and mark read.
    (Manager, ListConversation, ConversationMember),
    (Manager, ReadConversation, ConversationMember),
    (Manager, SendMessage, ConversationMember),
    (Manager, MarkRead, ConversationMember),
    (Practitioner, ListConversation, ConversationMember),
    (Practitioner, ReadConversation, ConversationMember),
    (Practitioner, SendMessage, ConversationMember),
    (Practitioner, MarkRead, ConversationMember),
    (Adopter, ListConversation, ConversationMember),
    (Adopter, ReadConversation, ConversationMember),
    (Adopter, SendMessage, ConversationMember),
    (Adopter, MarkRead, ConversationMember),
    (AdoptiveFamilyMember, ListConversation, ConversationMember),
    (AdoptiveFamilyMember, ReadConversation, ConversationMember),
    (AdoptiveFamilyMember, SendMessage, ConversationMember),
    (AdoptiveFamilyMember, MarkRead, ConversationMember),
    (BirthFamilyMember, ListConversation, ConversationMember),
    (BirthFamilyMember, ReadConversation, ConversationMember),
    (BirthFamilyMember, SendMessage, ConversationMember),
    (BirthFamilyMember, MarkRead, ConversationMember),
    // Supervision and membership belong to the organisation's staff.
    (Practitioner, ManageMembers, ConversationSupervisor),
    (Manager, ManageMembers, ConversationSupervisor),
    (Manager, ManageMembers, OwningOrganisationStaff),
    (Practitioner, SetAcceptedMedia, ConversationSupervisor),
    (Manager, SetAcceptedMedia, ConversationSupervisor),
    (Manager, SetAcceptedMedia, OwningOrganisationStaff),
    // Confirming people.
    (Manager, InviteWorker, OwningOrganisationStaff),
    (Manager, ApproveWorker, OwningOrganisationStaff),
    (Practitioner, ConfirmFamilyMember, Inviter),
    (Manager, ConfirmFamilyMember, Inviter),
    (Manager, DisableAccount, OwningOrganisationStaff),
    (PlatformAdmin, DisableAccount, Platform),
    // Key recovery: one operator requests, a second approves.
    (PlatformAdmin, RequestKeyRecovery, Platform),
    (PlatformAdmin, ApproveKeyRecovery, Platform),
    (Manager, ReadAuditTrail, OwningOrganisationStaff),
    // Letterbox: the supervisor sets the agreement and reviews; the
    // families write. Which side a family member writes for is the
    // agreement's, checked where the letter is written.
    (Manager, ReadAgreement, ConversationMember),
    (Practitioner, ReadAgreement, ConversationMember),
    (AdoptiveFamilyMember, ReadAgreement, ConversationMember),
    (BirthFamilyMember, ReadAgreement, ConversationMember),
    (Manager, SetAgreement, ConversationSupervisor),
    (Practitioner, SetAgreement, ConversationSupervisor),
    (AdoptiveFamilyMember, WriteLetter, ConversationMember),
    (BirthFamilyMember, WriteLetter, ConversationMember),
    (Manager, ReviewLetter, ConversationSupervisor),
    (Practitioner, ReviewLetter, ConversationSupervisor),
    (Manager, KeepCaseNotes, ConversationSupervisor),
    (Practitioner, KeepCaseNotes, ConversationSupervisor),
    // Live calls: staff start and host them; every member may join, and
    // only the host supervises.
    (Manager, StartCall, ConversationMember),
    (Practitioner, StartCall, ConversationMember),
    (Manager, JoinCall, ConversationMember),
    (Practitioner, JoinCall, ConversationMember),
    (Adopter, JoinCall, ConversationMember),
    (AdoptiveFamilyMember, JoinCall, ConversationMember),
    (BirthFamilyMember, JoinCall, ConversationMember),
    (Manager, SuperviseCall, CallHost),
    (Practitioner, SuperviseCall, CallHost),
    (Manager, ScheduleCall, ConversationMember),
    (Practitioner, ScheduleCall, ConversationMember),
    (Manager, ReadCallRecord, ConversationMember),
    (Practitioner, ReadCallRecord, ConversationMember),
    // Family finding. The operator manages organisations but reads no case.
    (PlatformAdmin, ManageOrganisations, Platform),
    (Manager, CreateCase, OwningOrganisationStaff),
    (Practitioner, CreateCase, OwningOrganisationStaff),
    (Manager, ReadCase, OwningOrganisationStaff),
    (Practitioner, ReadCase, OwningOrganisationStaff),
    (Manager, ReadCase, PublishedToActor),
    (Practitioner, ReadCase, PublishedToActor),
    (Adopter, ReadCase, CaseFamily),
    (Manager, EditCase, OwningOrganisationStaff),
    (Practitioner, EditCase, OwningOrganisationStaff),
    (Adopter, EditCase, CaseFamily),
    (Manager, PublishCase, OwningOrganisationStaff),
    (Practitioner, PublishCase, OwningOrganisationStaff),
    (Manager, SearchProfiles, OwningOrganisationStaff),
    (Practitioner, SearchProfiles, OwningOrganisationStaff),
    (Manager, ReadCaseStatistics, OwningOrganisationStaff),
    (Practitioner, ReadCaseStatistics, OwningOrganisationStaff),
    (Manager, ReadSufficiency, OwningOrganisationStaff),
    (Practitioner, ReadSufficiency, OwningOrganisationStaff),
    (Manager, ReadCase, DiscussionParty),
    (Practitioner, ReadCase, DiscussionParty),
    (Manager, ExpressInterest, OwningOrganisationStaff),
    (Practitioner, ExpressInterest, OwningOrganisationStaff),
    (Manager, ChangeInterestState, DiscussionParty),
    (Practitioner, ChangeInterestState, DiscussionParty),
    (Manager, TransferCase, OwningOrganisationStaff),
    (Manager, EraseCase, OwningOrganisationStaff),
    (Manager, HoldCase, OwningOrganisationStaff),
    // Rights of the people in the data. Everyone submits requests about
    // themselves. An organisation's workers record requests and its
    // managers decide them, and the platform's operator handles people with
    // no placing organisation.
    (PlatformAdmin, AskRights, Themselves),
    (Manager, AskRights, Themselves),
    (Practitioner, AskRights, Themselves),
    (Adopter, AskRights, Themselves),
    (AdoptiveFamilyMember, AskRights, Themselves),
    (BirthFamilyMember, AskRights, Themselves),
    (CommunityMember, AskRights, Themselves),
    (Moderator, AskRights, Themselves),
    (Manager, RecordRightsRequest, OwningOrganisationStaff),
    (Practitioner, RecordRightsRequest, OwningOrganisationStaff),
    (PlatformAdmin, RecordRightsRequest, Platform),
    (Manager, DecideRightsRequest, OwningOrganisationStaff),
    (PlatformAdmin, DecideRightsRequest, Platform),
    (PlatformAdmin, InviteWorker, FoundingOperator),
    (PlatformAdmin, ApproveWorker, FoundingOperator),
    // The community: members read and write in the groups they may read;
    // moderators of a community partner keep the whole community, and
    // manage their partner's moderators as managers do workers.
    (Moderator, ManageOwnSessions, Themselves),
    (CommunityMember, ReadCommunity, GroupReader),
    (CommunityMember, PostInCommunity, GroupReader),
    (CommunityMember, ReportPost, GroupReader),
    (CommunityMember, ReadCommunity, FellowMember),
    (Moderator, ReadCommunity, CommunityModerator),
    (Moderator, PostInCommunity, CommunityModerator),
    (Moderator, ModerateCommunity, CommunityModerator),
    (Moderator, ManageGroups, CommunityModerator),
    (Moderator, VerifyMembers, PartnerModerator),
    (Moderator, RaiseSafeguardingConcern, CommunityModerator),
    (Manager, ReadSafeguardingConcerns, OwningOrganisationStaff),
    (Moderator, InviteWorker, OwningOrganisationStaff),
    (Moderator, ApproveWorker, OwningOrganisationStaff),
    (Moderator, DisableAccount, OwningOrganisationStaff),
];

/// A request the grant table does not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub struct Denied {
    /// The action that was asked for.
    pub action: Action,
}

impl fmt::Display for Denied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "not permitted: {:?}", self.action)
    }
}

/// Returns whether one role may take one action through one relationship.
pub fn permits(role: Role, action: Action, relationship: Relationship) -> bool {
    GRANTS.contains(&(role, action, relationship))
}

/// Decides a request: allowed when any held role is granted the action
/// through any of the actor's relationships with the subject.
pub fn check(roles: &[Role], action: Action, relationships: &[Relationship]) -> Result<(), Denied> {
    let allowed = roles.iter().any(|role| {
        relationships
            .iter()
            .any(|relation| permits(*role, action, *relation))
    });
    if allowed {
        Ok(())
    } else {
        Err(Denied { action })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_reads_no_case() {
        let every = [
            Themselves,
            OwningOrganisationStaff,
            Platform,
            PublishedToActor,
            CaseFamily,
        ];
        assert!(check(&[PlatformAdmin], ReadCase, &every).is_err());
        assert!(check(&[PlatformAdmin], ManageOrganisations, &[Platform]).is_ok());
        assert!(check(&[Manager], ManageOrganisations, &[OwningOrganisationStaff]).is_err());
    }

    #[test]
    fn published_case_is_read_not_edited() {
        assert!(check(&[Practitioner], ReadCase, &[PublishedToActor]).is_ok());
        assert!(check(&[Practitioner], EditCase, &[PublishedToActor]).is_err());
        assert!(check(&[Practitioner], PublishCase, &[PublishedToActor]).is_err());
    }

    #[test]
    fn member_reads_conversation() {
        assert!(
            check(
                &[BirthFamilyMember],
                ReadConversation,
                &[ConversationMember]
            )
            .is_ok()
        );
    }

    #[test]
    fn non_member_cannot_read() {
        let denied = check(
            &[Practitioner],
            ReadConversation,
            &[OwningOrganisationStaff],
        );
        assert_eq!(
            denied,
            Err(Denied {
                action: ReadConversation
            })
        );
    }

    #[test]
    fn admin_never_reads_content() {
        let every = [
            Themselves,
            ConversationMember,
            ConversationSupervisor,
            OwningOrganisationStaff,
            Inviter,
            Platform,
        ];
        assert!(check(&[PlatformAdmin], ReadConversation, &every).is_err());
        assert!(check(&[PlatformAdmin], SendMessage, &every).is_err());
    }

    #[test]
    fn family_cannot_set_accepted_media() {
        let every = [
            Relationship::ConversationMember,
            Relationship::ConversationSupervisor,
        ];
        assert!(check(&[AdoptiveFamilyMember], SetAcceptedMedia, &every).is_err());
        assert!(check(&[BirthFamilyMember], SetAcceptedMedia, &every).is_err());
        assert!(check(&[Practitioner], SetAcceptedMedia, &every).is_ok());
    }

    #[test]
    fn only_managers_invite_and_approve_workers() {
        for action in [InviteWorker, ApproveWorker] {
            assert!(permits(Manager, action, OwningOrganisationStaff));
            for role in [
                Practitioner,
                PlatformAdmin,
                AdoptiveFamilyMember,
                CommunityMember,
            ] {
                assert!(!permits(role, action, OwningOrganisationStaff), "{role:?}");
            }
            assert!(!permits(Manager, action, ConversationSupervisor));
        }
    }

    #[test]
    fn only_the_host_supervises_a_call() {
        for role in [Manager, Practitioner] {
            assert!(permits(role, StartCall, ConversationMember));
            assert!(permits(role, SuperviseCall, CallHost));
            assert!(permits(role, ScheduleCall, ConversationMember));
            assert!(permits(role, ReadCallRecord, ConversationMember));
            assert!(!permits(role, ScheduleCall, OwningOrganisationStaff));
            assert!(!permits(role, SuperviseCall, ConversationMember));
            assert!(!permits(role, SuperviseCall, ConversationSupervisor));
        }
        for role in [AdoptiveFamilyMember, BirthFamilyMember, Adopter] {
            assert!(permits(role, JoinCall, ConversationMember));
            assert!(!permits(role, StartCall, ConversationMember));
            assert!(!permits(role, SuperviseCall, CallHost));
            assert!(!permits(role, ScheduleCall, ConversationMember));
            assert!(!permits(role, ReadCallRecord, ConversationMember));
        }
        assert!(!permits(CommunityMember, JoinCall, ConversationMember));
    }

    #[test]
    fn family_cannot_manage_members() {
        let every = [Themselves, ConversationMember, ConversationSupervisor];
        assert!(check(&[AdoptiveFamilyMember], ManageMembers, &every).is_err());
    }

    #[test]
    fn only_the_supervisor_reviews_and_only_families_write() {
        let member = [ConversationMember];
        let supervisor = [ConversationMember, ConversationSupervisor];
        assert!(check(&[Practitioner], ReviewLetter, &supervisor).is_ok());
        assert!(check(&[Practitioner], ReviewLetter, &member).is_err());
        assert!(check(&[BirthFamilyMember], ReviewLetter, &supervisor).is_err());
        assert!(check(&[BirthFamilyMember], SetAgreement, &supervisor).is_err());
        assert!(check(&[BirthFamilyMember], WriteLetter, &member).is_ok());
        assert!(check(&[Practitioner], WriteLetter, &supervisor).is_err());
        assert!(check(&[PlatformAdmin], ReadAgreement, &supervisor).is_err());
        assert!(check(&[AdoptiveFamilyMember], KeepCaseNotes, &supervisor).is_err());
        assert!(check(&[Practitioner], KeepCaseNotes, &member).is_err());
    }

    #[test]
    fn community_member_has_no_conversation_rights() {
        assert!(check(&[CommunityMember], ReadConversation, &[ConversationMember]).is_err());
    }

    #[test]
    fn community_is_kept_apart() {
        let every = [
            Themselves,
            OwningOrganisationStaff,
            PublishedToActor,
            Platform,
            ConversationMember,
        ];
        for action in [
            ReadCommunity,
            PostInCommunity,
            ModerateCommunity,
            VerifyMembers,
            RaiseSafeguardingConcern,
        ] {
            for role in [Manager, Practitioner, PlatformAdmin, Adopter] {
                assert!(
                    check(&[role], action, &every).is_err(),
                    "{role:?} {action:?}"
                );
            }
        }
        assert!(check(&[CommunityMember], ReadCommunity, &[GroupReader]).is_ok());
        assert!(check(&[CommunityMember], ModerateCommunity, &[GroupReader]).is_err());
        assert!(check(&[CommunityMember], ReadCommunity, &[CommunityModerator]).is_err());
        assert!(check(&[Moderator], ModerateCommunity, &[CommunityModerator]).is_ok());
        assert!(check(&[Moderator], ReadCase, &[OwningOrganisationStaff]).is_err());
        assert!(check(&[Moderator], VerifyMembers, &[CommunityModerator]).is_err());
    }

    #[test]
    fn no_duplicate_grants() {
        for (index, grant) in GRANTS.iter().enumerate() {
            assert!(
                !GRANTS[index + 1..].contains(grant),
                "duplicate grant {grant:?}"
            );
        }
    }

    #[test]
    fn role_names_round_trip() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("superuser"), None);
    }
}
