import SvgIcon, { type SvgIconProps } from '@mui/material/SvgIcon';

/** Material Design "storage" (Apache-2.0, google/material-design-icons): self-service resources. */
export function ResourcesIcon(props: SvgIconProps) {
  return (
    <SvgIcon aria-hidden focusable="false" {...props}>
      <path d="M2 20h20v-4H2v4zm2-3h2v2H4v-2zM2 4v4h20V4H2zm4 3H4V5h2v2zm-4 7h20v-4H2v4zm2-3h2v2H4v-2z" />
    </SvgIcon>
  );
}
