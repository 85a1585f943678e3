import type { InternalAxiosRequestConfig } from 'axios';
import { describeValue } from '../../core/options';

const ABSOLUTE = /^([a-z][a-z\d+\-.]*:)?\/\//i;

/**
 * The URL an axios request goes to, joined from `baseURL` and `url` the way axios joins them (query
 * parameters left out: naming only needs the rest).
 */
export function axiosRequestUrl(config: InternalAxiosRequestConfig): URL {
  const url = config.url ?? '';
  const base = config.baseURL;
  const joined =
    base && (!ABSOLUTE.test(url) || config.allowAbsoluteUrls === false)
      ? url
        ? `${base.replace(/\/?\/$/, '')}/${url.replace(/^\/+/, '')}`
        : base
      : url;
  try {
    return new URL(joined);
  } catch (cause) {
    throw new TypeError(
      `protectAxios: cannot send to ${describeValue(joined)}: not an absolute URL (set baseURL, or an absolute url)`,
      { cause },
    );
  }
}
