export { ActivityBar, ViewContainer } from './activitybar';
export { Notifications } from './notifications';
export { QuickInput } from './quickinput';
export { StatusBar } from './statusbar';
export { Tree } from './tree';
export { Webview } from './webview';
export { Workbench } from './workbench';
export { Attachments, FileDialog } from './files';
export { Dialog } from './dialog';
