export const T = 1;
