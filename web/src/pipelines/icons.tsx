import SvgIcon, { type SvgIconProps } from '@mui/material/SvgIcon';

/** Material Design "account_tree" (Apache-2.0, google/material-design-icons): a pipeline's stages. */
export function PipelineIcon(props: SvgIconProps) {
  return (
    <SvgIcon aria-hidden focusable="false" {...props}>
      <path d="M22 11V3h-7v3H9V3H2v8h7V8h2v10h4v3h7v-8h-7v3h-2V8h2v3z" />
    </SvgIcon>
  );
}
