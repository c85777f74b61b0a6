"""The LDAP pull: a mapping file, a directory source (ldap3 or in memory), the diff, and the sync run."""

from accessctl.hr_sync.ldap.config import FieldSpec, LdapMapping, load_mapping, mapping_from_dict
from accessctl.hr_sync.ldap.diff import Plan, UserChange, classify, plan_text
from accessctl.hr_sync.ldap.ldap3_source import DeltaUnsupported, DirectoryUnavailable, Ldap3Directory
from accessctl.hr_sync.ldap.source import DirectoryEntry, DirectorySource, InMemoryDirectory, Search
from accessctl.hr_sync.ldap.sync import LdapSync, SyncOutcome

__all__ = [
    "DeltaUnsupported",
    "DirectoryEntry",
    "DirectorySource",
    "DirectoryUnavailable",
    "FieldSpec",
    "InMemoryDirectory",
    "Ldap3Directory",
    "LdapMapping",
    "LdapSync",
    "Plan",
    "Search",
    "SyncOutcome",
    "UserChange",
    "classify",
    "load_mapping",
    "mapping_from_dict",
    "plan_text",
]
