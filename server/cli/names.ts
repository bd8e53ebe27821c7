/** The user-name rule, shared with the protocol schema, without loading the schema library. */
export const userNameSchemaPattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
