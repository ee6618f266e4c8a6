import { Route, Routes } from 'react-router-dom';
import { NotFoundPage } from '../app/NotFoundPage';
import { DeliveryPage } from './DeliveryPage';
import { RolloutPage } from './RolloutPage';

/** The delivery pages under /delivery (loaded lazily by App.tsx). */
export default function DeliveryRoutes() {
  return (
    <Routes>
      <Route index element={<DeliveryPage />} />
      <Route path="rollouts/:id" element={<RolloutPage />} />
      <Route path="*" element={<NotFoundPage />} />
    </Routes>
  );
}
