/**
 * Everything operators call lives under this prefix (the admin API, see src/admin); routes may not
 * claim paths below it. Defined here, in the pure routing layer, so the route table can refuse
 * such patterns without importing the Express edge.
 */
export const ADMIN_PREFIX = '/_switchyard';
