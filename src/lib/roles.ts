/**
 * The API's roles, ordered: `read` (GET routes) < `operate` (launch, stop, reset) < `admin`
 * (mass deletes, forced resets). Each role may do everything the ones before it may.
 */
export const ROLES = ["read", "operate", "admin"] as const;
export type Role = (typeof ROLES)[number];

export const isRole = (v: string): v is Role => (ROLES as readonly string[]).includes(v);

export const roleAtLeast = (have: Role, need: Role) => ROLES.indexOf(have) >= ROLES.indexOf(need);
