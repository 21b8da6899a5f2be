declare module 'murmurhash3js' {
  const murmurhash3: { readonly x86: { hash32(key: string, seed?: number): number } };
  export default murmurhash3;
}
